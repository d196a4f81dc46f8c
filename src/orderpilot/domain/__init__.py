"""The pure domain core: orders, lifecycle, holds, system views. No I/O here."""
