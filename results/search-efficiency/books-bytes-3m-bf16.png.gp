set terminal pngcairo size 640,420
set output 'results/search-efficiency/books-bytes-3m-bf16.png'
set multiplot layout 1,1
set logscale x
set xlabel 'forward-equivalents'
set ylabel 'held-out perplexity'
set key outside right font ',8'
set yrange [4.648:5.330]
unset arrow
set arrow from 1344.0, graph 0 to 1344.0, graph 1 nohead dt 3 lc rgb 'gray'
set title "16x\ndotted: a fifth of evolution-paper's forwards" font ",9"
plot 'results/search-efficiency/books-bytes-3m-bf16.png.dat' index 0 with points pt 4 lc 1 ps 1.3 title 'evolution-paper', 'results/search-efficiency/books-bytes-3m-bf16.png.dat' index 1 with points pt 5 lc 2 ps 1.3 title 'one-doc', 'results/search-efficiency/books-bytes-3m-bf16.png.dat' index 2 with points pt 6 lc 3 ps 1.3 title 'racing-critical-longer', 5.076370058066691 with lines dt 2 lc rgb 'gray' title 'YaRN'
unset multiplot
