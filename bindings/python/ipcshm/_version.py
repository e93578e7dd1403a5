"""The version of this package: that of the libipcshm release it is made for (the
project version in meson.build; a test keeps the two equal)."""
__version__ = "1.2.0"
