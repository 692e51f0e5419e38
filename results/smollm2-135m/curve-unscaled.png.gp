set terminal pngcairo size 1000,640 enhanced font 'Sans,11'
set output "results/smollm2-135m/curve-unscaled.png"
set title "Perplexity vs context length (2 documents)"
set xlabel "context length (tokens)"
set ylabel "perplexity"
set grid
set key outside right top
set datafile missing 'nan'
set logscale x 2
set logscale y
set arrow from 8192,graph 0 to 8192,graph 1 nohead dashtype 2 linecolor rgb '#666666'
set label "original length 8192" at 8192,graph 0.97 right offset -0.5,0 textcolor rgb '#666666'
plot "results/smollm2-135m/curve-unscaled.png.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "none"
