"""The row copy: the chunker walks the shared key, the copier copies each chunk inside the
server, loop.py runs the copy step, deferred.py drops and rebuilds the plain secondary
indexes, bounds.py keeps the key bounds as text."""
