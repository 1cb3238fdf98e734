from byods_manager.cli.main import main

main()
