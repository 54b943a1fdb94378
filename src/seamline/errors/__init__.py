"""Communication errors: reports that a communication was wrong, classified by harm, escalated by policy with
clocks, grouped into problems by root cause with their blast radius (not `seamline.core.errors`, the exceptions)."""
