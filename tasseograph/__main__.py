from tasseograph.cli import main

main()
