from opengroup.cli.main import main

main()
