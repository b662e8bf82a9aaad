"""Plain dataclasses and value objects: residents, accounts, bills, payments, receipts."""
