"""A run directory: the typed manifest, saving and loading runs, and what info shows of them."""
