"""What readers send back: mailbox sources, votes and replies."""
