"""The OAuth setup wizard: loopback callback, browser flow, config writer and the cascade.

The defaults below live here, with no imports, so that `byods` can show them in
`auth setup --help` without loading the OAuth modules.
"""

DEFAULT_REDIRECT_URI = "http://127.0.0.1:3000/callback"
DEFAULT_TIMEOUT_SECONDS = 300.0
