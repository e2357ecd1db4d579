"""faqbot: vetted answers about chronic pain and kratom, behind a safety guard."""

__version__ = "0.1.0"
__all__ = ["__version__"]
