"""Data sets: bundled with installed packages (digits, num2words), ILSVRC2012 val, nmt test sets."""
