# TEST-ONLY stand-in for a standard library module
