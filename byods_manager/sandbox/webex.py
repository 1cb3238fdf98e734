"""Facts about Webex the sandbox imitates, written down from Webex's documentation.

They are deliberately not imported from the client (``byods_manager.bodies``,
``validation``, ``tokens.endpoints``): a stand-in that shared the client's assumptions
could not catch the client's mistakes.
"""

from __future__ import annotations

# Data sources (Data Sources OpenAPI document).
STATUS_ACTIVE = "active"
STATUS_DISABLED = "disabled"
STATUSES = (STATUS_ACTIVE, STATUS_DISABLED)
MIN_LIFETIME_MINUTES = 1
MAX_LIFETIME_MINUTES = 1440
URL_SCHEMES = ("https", "wss")

# Claims of a data-source jwsToken (as in the spec's example token).
CLAIM_URL = "com.cisco.datasource.url"
CLAIM_SCHEMA = "com.cisco.datasource.schema.uuid"
CLAIM_ORG = "com.cisco.org.uuid"

# Scopes.
APPLICATIONS_TOKEN_SCOPE = "spark:applications_token"
DATASOURCE_SCOPES = ["spark-admin:datasource_read", "spark-admin:datasource_write"]

# The JWKS path below the issuer (``https://idbroker.webex.com/idb``).
JWKS_PATH = "/oauth2/v2/keys/verificationjwk"
