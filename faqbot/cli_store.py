"""`faqbot escalations ...`: list, export and purge the escalation log."""
