"""Leaf package: the payment gateway protocol and its adapters. Never imports `crowdfund`."""
