"""Leaf package: receipt data, numbering and PDF rendering. Never imports `crowdfund`."""
