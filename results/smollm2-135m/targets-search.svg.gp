set terminal svg size 1000,640 dynamic enhanced font 'Sans,11'
set output "results/smollm2-135m/targets-search.svg"
set title "Perplexity at the searched lengths (search set, 1 document)"
set xlabel "context length (tokens)"
set ylabel "perplexity"
set grid
set key outside right top
set datafile missing 'nan'
set logscale x 2
set logscale y
set xrange [5461.333333333333:*]
set arrow from 8192,graph 0 to 8192,graph 1 nohead dashtype 2 linecolor rgb '#666666'
set label "L = 8192" at 8192,graph 0.97 right offset -0.5,0 textcolor rgb '#666666'
plot "results/smollm2-135m/targets-search.svg.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "none", \
     "results/smollm2-135m/targets-search.svg.dat" index 1 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "pi", \
     "results/smollm2-135m/targets-search.svg.dat" index 2 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "ntk", \
     "results/smollm2-135m/targets-search.svg.dat" index 3 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "dynamic-ntk", \
     "results/smollm2-135m/targets-search.svg.dat" index 4 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "yarn", \
     "results/smollm2-135m/targets-search.svg.dat" index 5 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope (searched per length)"
