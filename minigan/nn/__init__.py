"""Neural-network layers (see issue: nn modules)."""
