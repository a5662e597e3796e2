"""The detection benchmark: AURA against Flower's robust aggregators on Fed-Heart-Disease (issue 4)."""
