"""Use-cases: each combines storage and domain rules in one transaction."""
