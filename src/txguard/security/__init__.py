"""Who may do what, card tokenisation, and the audit trail."""
