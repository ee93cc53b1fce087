"""Building blocks: pure-function cores and the TFX components that call them."""
