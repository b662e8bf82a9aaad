"""What runs inside the Rasa server, in the engine runtime (Python 3.10, Rasa 3.6's pins;
README, "Runtimes"): its entry point (server.py) and settings, our NLU component, tracker and
lock stores, the gateway's channel, and the fixes installed into Rasa before it starts.

Nothing here may import the app (app/, actions/, channels/, integrations.db) or a package
only the app runtime has; nothing in the app imports this package (import-linter says both).
"""
