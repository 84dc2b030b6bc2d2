"""Mail coming in: the mailbox (IMAP or Maildir), the decision about one message (decide.py,
pure), and delivery reports about our own mail (bounces.py)."""
