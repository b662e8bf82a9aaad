-- Rasa's tracker store lives in a database of its own (RASA_TRACKER_STORE_URL).
CREATE DATABASE rasa OWNER bot;
