"""WTForms forms, one module per feature. Every form carries a CSRF token (Flask-WTF)."""
