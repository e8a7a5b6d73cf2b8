"""What people reach the advisor through over the network: the Gradio chat UI (`ui`), its pure
rendering (`render`) and the feedback log (`feedback`)."""
