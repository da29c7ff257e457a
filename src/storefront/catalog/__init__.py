"""The product catalog and its stock."""
