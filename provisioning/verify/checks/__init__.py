"""One module per service, each exporting its checks as tuples of (service, check, function); a
function takes the run's Context and one Server and returns what it saw (or raises AssertionError
with what is wrong). `provisioning/verify/run.py` composes them into the center's and the units' lists."""
