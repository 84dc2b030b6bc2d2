"""Mail going out: compose the bytes (compose.py), deliver one message (smtp.py), walk the
outbox (outbox.py), the texts units and staff read (notices.py), and who is chased when
(chase.py, pure)."""
