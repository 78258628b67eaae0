"""Pure SQL helpers of the engine: quoting, ALTER parsing, statement builders and names.

Everything here builds or reads statement text; nothing performs I/O, so every function
is unit-tested on strings alone.
"""
