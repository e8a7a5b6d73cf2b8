"""python app.py [--host HOST] [--port PORT]: open (or build) the index and start the chat UI."""

import sys

from advisor_bot.cli import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]])
