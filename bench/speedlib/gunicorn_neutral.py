# Deliberately empty: gunicorn reads ./gunicorn.conf.py from its working directory
# unless given -c, and the project's production file would change the workers,
# timeouts and logging. bench/speed.py passes this file with -c and sets every
# setting on the command line, the same for every server it measures.
