"""Billers: the catalog of billers we serve and the BBPS bill fetch/payment client."""
