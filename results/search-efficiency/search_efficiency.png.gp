set terminal pngcairo size 1120,420
set output '/work/main/results/search-efficiency/search_efficiency.png'
set multiplot layout 1,2
set logscale x
set xlabel 'forward-equivalents'
set ylabel 'held-out perplexity'
set key outside right font ',8'
set yrange [5.545:6.854]
unset arrow
set arrow from 1344.0, graph 0 to 1344.0, graph 1 nohead dt 3 lc rgb 'gray'
set title "16x\noff scale: reference-ga 8.94\ndotted: a fifth of evolution-paper's forwards" font ",9"
plot '/work/main/results/search-efficiency/search_efficiency.png.dat' index 0 with points pt 4 lc 1 ps 1.3 title 'both', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 1 with points pt 5 lc 2 ps 1.3 title 'both-fifth', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 2 with points pt 6 lc 3 ps 1.3 title 'critical-dim', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 3 with points pt 7 lc 4 ps 1.3 title 'evolution', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 4 with points pt 8 lc 5 ps 1.3 title 'evolution-paper', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 5 with points pt 9 lc 6 ps 1.3 title 'gradient', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 6 with points pt 10 lc 7 ps 1.3 title 'gradient-300', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 7 with points pt 11 lc 8 ps 1.3 title 'gradient-avg', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 8 with points pt 12 lc 9 ps 1.3 title 'piecewise', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 9 with points pt 13 lc 10 ps 1.3 title 'racing', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 10 with points pt 14 lc 11 ps 1.3 title 'racing-critical', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 11 with points pt 15 lc 12 ps 1.3 title 'racing-critical-fifth', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 12 with points pt 16 lc 13 ps 1.3 title 'racing-critical-long', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 13 with points pt 17 lc 14 ps 1.3 title 'racing-critical-longer', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 14 with points pt 18 lc 15 ps 1.3 title 'racing-critical-longest', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 15 with points pt 19 lc 16 ps 1.3 title 'racing-critical-tight', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 16 with points pt 20 lc 17 ps 1.3 title 'reference-ga', 6.527253659211505 with lines dt 2 lc rgb 'gray' title 'YaRN'
set yrange [6.941:9.433]
unset arrow
set arrow from 1344.0, graph 0 to 1344.0, graph 1 nohead dt 3 lc rgb 'gray'
set title "32x\ndotted: a fifth of evolution-paper's forwards" font ",9"
plot '/work/main/results/search-efficiency/search_efficiency.png.dat' index 17 with points pt 7 lc 4 ps 1.3 title 'evolution', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 18 with points pt 8 lc 5 ps 1.3 title 'evolution-paper', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 19 with points pt 9 lc 6 ps 1.3 title 'gradient', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 20 with points pt 17 lc 14 ps 1.3 title 'racing-critical-longer', 8.983953635335562 with lines dt 2 lc rgb 'gray' title 'YaRN'
unset multiplot
