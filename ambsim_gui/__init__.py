"""ambsim: a desktop training simulator for ambulance control rooms."""

__version__ = "0.1.0"
