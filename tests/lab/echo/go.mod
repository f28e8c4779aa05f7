module omstack.lab/echo

go 1.24
