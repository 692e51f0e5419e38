set terminal pngcairo size 1200,520
set output '/work/main/results/search-efficiency/search_efficiency_frontier.png'
set multiplot layout 1,2
set logscale x
set xrange [0.02:1.3]
set xlabel 'cost (fraction of the reference forwards)'
set ylabel 'held out, against the reference mean (%)'
set key bottom left font ',8'
set grid
set title "16x: the rule is cost < 0.2, worst seed < +3 %, mean < +1 %\nlabels: configuration (seeds), on the front or with a worst seed under +3.5 %\nfront over configurations with 5+ seeds\noff scale: reference-ga +57 %" font ",9"
set yrange [-3.3:9.0]
unset arrow
set arrow from first 0.2, graph 0 to first 0.2, graph 1 nohead dt 2 lc rgb '#222222'
set arrow from graph 0, first 3.0 to graph 1, first 3.0 nohead dt 3 lc rgb '#cc3311'
set arrow from graph 0, first 1.0 to graph 1, first 1.0 nohead dt 3 lc rgb '#4477aa'
plot '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 0 using 1:3:4:5 with yerrorbars pt 7 ps 0.6 lc rgb '#4477aa' title 'mean (interval: seeds, books, windows)', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 0 using 1:2 with points pt 2 ps 1.2 lc rgb '#cc3311' title 'worst seed', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 1 using 1:2 with steps lw 1.5 lc rgb '#cc3311' dt 2 title 'front of the worst seed', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 0 using 1:2:6 with labels left offset 0.6,0 font ',7' notitle, '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 2 using 1:2 with points pt 6 ps 1.2 lc rgb '#ee7733' title 'best of k seeds on validation: worst subset', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 2 using 1:3 with points pt 7 ps 0.5 lc rgb '#ee7733' title 'best of k seeds: mean', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 2 using 1:2:4 with labels left offset 0.6,0 font ',6' tc rgb '#ee7733' notitle
set title "32x: the rule is cost < 0.2, worst seed < +3 %, mean < +1 %\nlabels: configuration (seeds), on the front or with a worst seed under +3.5 %\nfront over configurations with 5+ seeds\noff scale: gradient +16 %" font ",9"
set yrange [-1.0:9.0]
unset arrow
set arrow from first 0.2, graph 0 to first 0.2, graph 1 nohead dt 2 lc rgb '#222222'
set arrow from graph 0, first 3.0 to graph 1, first 3.0 nohead dt 3 lc rgb '#cc3311'
set arrow from graph 0, first 1.0 to graph 1, first 1.0 nohead dt 3 lc rgb '#4477aa'
plot '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 3 using 1:3:4:5 with yerrorbars pt 7 ps 0.6 lc rgb '#4477aa' title 'mean (interval: seeds, books, windows)', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 3 using 1:2 with points pt 2 ps 1.2 lc rgb '#cc3311' title 'worst seed', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 4 using 1:2 with steps lw 1.5 lc rgb '#cc3311' dt 2 title 'front of the worst seed', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 3 using 1:2:6 with labels left offset 0.6,0 font ',7' notitle, '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 5 using 1:2 with points pt 6 ps 1.2 lc rgb '#ee7733' title 'best of k seeds on validation: worst subset', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 5 using 1:3 with points pt 7 ps 0.5 lc rgb '#ee7733' title 'best of k seeds: mean', '/work/main/results/search-efficiency/search_efficiency_frontier.png.dat' index 5 using 1:2:4 with labels left offset 0.6,0 font ',6' tc rgb '#ee7733' notitle
unset multiplot
