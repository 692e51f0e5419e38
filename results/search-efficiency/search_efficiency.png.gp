set terminal pngcairo size 640,420
set output '/work/main/results/search-efficiency/search_efficiency.png'
set multiplot layout 1,1
set logscale x
set xlabel 'forward-equivalents'
set ylabel 'held-out perplexity'
set key outside right font ',8'
set title '32x'
plot '/work/main/results/search-efficiency/search_efficiency.png.dat' index 0 with points pt 4 lc 1 ps 1.3 title 'evolution', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 1 with points pt 5 lc 2 ps 1.3 title 'evolution-paper', '/work/main/results/search-efficiency/search_efficiency.png.dat' index 2 with points pt 6 lc 3 ps 1.3 title 'gradient', 8.983953635335562 with lines dt 2 lc rgb 'gray' title 'YaRN'
unset multiplot
