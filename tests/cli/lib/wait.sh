# wait.sh: sourced by tests/cli/*.sh that start something in the background.
#
# serve_port LOG: waits (up to 20 s) for `posttrain serve`'s "listening on" line in LOG
# and prints its port; prints nothing if the server never got there.
serve_port() {
    local port= _
    for _ in $(seq 1 1000); do
        port=$(sed -n 's|.*listening on http://[^ ]*:\([0-9]*\)/.*|\1|p' "$1")
        [ -n "$port" ] && break
        sleep 0.02
    done
    echo "$port"
}
# wait_lines FILE N: waits (up to 20 s) until FILE has N lines or more.
wait_lines() {
    local _
    for _ in $(seq 1 2000); do
        [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
        sleep 0.01
    done
    return 1
}
