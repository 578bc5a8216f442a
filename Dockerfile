# The katas' environment, Valgrind included, for laptops that have none (macOS, Windows): see the README,
# "macOS and Windows". VS Code and Codespaces use it through .devcontainer/devcontainer.json; by hand:
#   docker build -t leaky-c . && docker run -it --rm -v "${PWD}:/katas" leaky-c
# 'make fresh-debian' runs these RUN lines and the README's quick start on a bare Debian 12 root: keep the
# first RUN the README's first command, and every RUN on one line.
FROM debian:12
WORKDIR /katas
COPY harness/tools/setup harness/tools/setup
RUN sh harness/tools/setup
# The folder mounted from the laptop belongs to another user: git must still read it (make reset, status).
RUN git config --system --add safe.directory '*'
