"""The checkout rules staff configure: discount codes, shipping methods and tax rates."""
