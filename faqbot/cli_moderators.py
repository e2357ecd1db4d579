"""`faqbot moderators ...` and `faqbot gaps`: moderator accounts and the content gap report."""
