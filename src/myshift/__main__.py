from myshift.cli import run

run()
