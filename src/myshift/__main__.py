from myshift.cli import main

main()
