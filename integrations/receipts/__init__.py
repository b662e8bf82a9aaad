"""Receipt documents: the PDF a resident downloads after a verified payment."""
