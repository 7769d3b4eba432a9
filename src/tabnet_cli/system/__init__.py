"""The machine: CPU threads, memory, and torchrun's distributed processes."""
