module greenlight.dev/bench/receiver

go 1.26
