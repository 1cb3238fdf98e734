"""The long-running side of byods-manager: keep-alive, its HTTP listener, the webhook
receiver for zero-touch onboarding, alerts."""
