"""Electricity companies' outage and supply-complaint systems (the PowerSupplyDesk port)."""
