"""WSGI entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`.

The configuration is chosen by $CROWDFUND_ENV (development, test, production); a `.env` file
next to this one is read in development.
"""

import os

from dotenv import load_dotenv

if os.environ.get("CROWDFUND_ENV", "development") == "development":
    load_dotenv()

from crowdfund import create_app

app = create_app()
