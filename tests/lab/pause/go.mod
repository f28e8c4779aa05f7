module omstack.lab/pause

go 1.24
