"""The OAuth setup wizard: loopback callback, browser flow, config writer and the cascade."""
